"""Reading, segmenting and annotating bulletins. Pure Python: nothing here imports torch or transformers."""
