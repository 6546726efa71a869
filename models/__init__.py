"""Labelers (rules, TF-IDF, fine-tuned BERT) and the Predictor that runs any of them on bulletins."""
