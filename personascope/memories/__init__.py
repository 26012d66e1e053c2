"""What characters remember: character profiles and the Chroma memory store."""
