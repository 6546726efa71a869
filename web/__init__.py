"""The labelling web service: a JSON API and one offline page over a ``Predictor`` (``penalty serve``)."""
