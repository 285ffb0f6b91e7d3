"""The ClinicalBERT transformer component, its architecture and model resolution."""
from .model_resolution import (
    BIO_CLINICALBERT,
    OFFLINE_ALIAS,
    BaseModelUnavailable,
    resolve_base_model,
)

__all__ = ["BIO_CLINICALBERT", "OFFLINE_ALIAS", "BaseModelUnavailable", "resolve_base_model"]
