__title__ = "spacy_wv"
__version__ = "0.1.0"
