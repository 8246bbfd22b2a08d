"""Real training runs with known ground truth, written by each framework's own TensorBoard writer.

``python -m train_reference.generate --quick --out fixtures/`` regenerates them;
``python -m train_reference.check fixtures/`` verifies that they still carry their labels.
"""
