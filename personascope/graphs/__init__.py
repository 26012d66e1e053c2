"""How they speak: graph state, nodes, graph builders and the experiment runner."""
