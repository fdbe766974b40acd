"""Customer-journey recording: stages, sources and touchpoints."""
