"""The safety gate: crisis language gets a safety response with resources, not an insight."""

from service.safety.detector import Resource, Safety, assess, detect_crisis

__all__ = ["Resource", "Safety", "assess", "detect_crisis"]
