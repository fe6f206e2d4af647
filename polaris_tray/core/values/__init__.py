"""The values every layer shares: an attempt's Outcome, the LinkState and its Colour, and the masking every
text about them passes through. The bottom layer: it imports nothing else of ours."""
