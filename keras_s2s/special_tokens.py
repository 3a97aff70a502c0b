"""Fixed ids of the special tokens, shared by every vocabulary and model.

Padding is 0 everywhere; sequences are right-padded.
"""

PAD_ID = 0
UNK_ID = 1
BOS_ID = 2
EOS_ID = 3

PAD = "<pad>"
UNK = "<unk>"
BOS = "<s>"
EOS = "</s>"

SPECIAL_TOKENS = (PAD, UNK, BOS, EOS)
