"""Training setup that follows the corpus: `init_config` writes a spaCy config with the
components a converted corpus has gold data for."""
from .corpus_profile import CorpusProfile, profile_corpus
from .init_config import init_config, render_config

__all__ = ["CorpusProfile", "init_config", "profile_corpus", "render_config"]
