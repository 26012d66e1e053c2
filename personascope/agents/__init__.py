"""Who speaks: interviewer, role-playing agents, assessors and model resolution."""
