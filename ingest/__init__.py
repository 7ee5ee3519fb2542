"""Write path of trustlens: read journals, store entries, chunk, embed and index them."""
