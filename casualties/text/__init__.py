"""Text machinery shared by the extractors: sentence splitting, trie regexes, start indexes."""
