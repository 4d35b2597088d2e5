"""petridish: model organisms of misalignment, grown small and measured with controls and confidence intervals."""

__version__ = "0.1.0"
