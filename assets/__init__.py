"""Source, warehouse and analytics assets of the LLM inference price observatory."""
