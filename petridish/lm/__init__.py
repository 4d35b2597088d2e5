"""The `lm` substrate: a causal language model (petridish's TinyGPT or a local Hugging Face checkpoint)."""
