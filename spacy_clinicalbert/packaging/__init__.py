"""Packaging a trained pipeline as a pip wheel and checking it loads offline."""
