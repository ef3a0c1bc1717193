"""Training and evaluation: recipes (generator, tokenizer), language-model
training loops, the optimizer builder, data (synth/) and evaluation modules.

Imports `engine` only; only the CLI's train and eval commands import `train`,
lazily.
"""
