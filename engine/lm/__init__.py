"""The language model: GPT-2-family inference that knows nothing about logs.

Config, model, KV cache, sampling, generation (token ids in, token ids out),
the tiktoken-based tokenizer, device placement, int8 quantization, model
bundles (safetensors + config.json + ranks), the model registry and importers
of foreign checkpoints. It imports nothing from `engine.logs`,
`engine.detect` or `engine.analysis` (an import-linter contract).
"""
