"""The engine's seeded generator (core/util/random.h: SplitMix64, Steele et al. 2014), so the
labeled split, the batch order and the initial weights are the engine's for the same seed."""
import math

_MASK = (1 << 64) - 1


class Random:
    def __init__(self, seed):
        self.state = seed & _MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def uniform(self):  # [0, 1) with 53 random bits
        return (self.next_u64() >> 11) * 2.0 ** -53

    def below(self, n):  # [0, n), Lemire's multiply-shift
        return (self.next_u64() * n) >> 64

    def normal(self):  # Box-Muller, one of the pair
        u1, u2 = 1.0 - self.uniform(), self.uniform()
        return math.sqrt(-2.0 * math.log(u1)) * math.cos(6.283185307179586 * u2)

    def shuffle(self, items):  # Fisher-Yates, in place
        for i in range(len(items), 1, -1):
            j = self.below(i)
            items[i - 1], items[j] = items[j], items[i - 1]


def stream_seed(seed, stream, index):
    """core/train/trainer.cpp: the batch order is a pure function of (seed, stream, pass)."""
    return (seed * 0x9E3779B97F4A7C15 + stream * 0xBF58476D1CE4E5B9 + index) & _MASK


def labeled_split(labels, labeled_count, seed, class_names):
    """core/data/labeled_split.cpp: N_L images balanced per class (the remainder to the first
    classes), each class's indices shuffled with one generator in class order."""
    classes = len(class_names)
    by_class = [[] for _ in range(classes)]
    for i, label in enumerate(labels):
        by_class[label].append(i)
    rng, chosen = Random(seed), [False] * len(labels)
    for c in range(classes):
        wanted = labeled_count // classes + (1 if c < labeled_count % classes else 0)
        if len(by_class[c]) < wanted:
            raise ValueError(f"class '{class_names[c]}' has {len(by_class[c])} images, but a balanced split of "
                             f"{labeled_count} labeled images needs {wanted} from it")
        rng.shuffle(by_class[c])
        for k in range(wanted):
            chosen[by_class[c][k]] = True
    return [i for i in range(len(labels)) if chosen[i]]
