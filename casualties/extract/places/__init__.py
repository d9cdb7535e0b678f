"""Where an incident happened: place names in text resolved with an offline gazetteer.

The modules, each importing only those below it:

- `resolve`: `resolve_place`, the place of an incident among the article's mentions;
- `mentions`: `Mention` and `mentions(text)`, the scan of a text for places and its dateline;
- `names`: what a capitalised token may name (cached gazetteer look-ups and the lexicon's rules);
- `spots`: the spot, admin-area and capital patterns and where in a text they may match;
- `demonyms`: country adjectives ("Afghan forces");
- `gazetteer`: `Town`, `Gazetteer`, the cached index and `norm`, the key a name is indexed under.

`gazetteer()` and `mentions()` are not re-exported here: under those names the package's
attributes are its modules (`places.gazetteer.gazetteer()`, `places.mentions.mentions(text)`).
"""

from casualties.extract.places.gazetteer import Gazetteer, Town, norm
from casualties.extract.places.mentions import Mention
from casualties.extract.places.resolve import resolve_place

__all__ = ["Gazetteer", "Mention", "Town", "norm", "resolve_place"]
