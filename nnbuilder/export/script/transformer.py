"""Helper source the generated script includes when its network needs it: the transformer encoder, written
out as a readable class (positions, attention blocks, pooling) that builds the same modules, in the same order,
as nnbuilder.layers.attention."""

_TRANSFORMER = '''\
def sinusoidal_positions(steps, width):
    """The fixed position code of "Attention is all you need": sin on even, cos on odd features."""
    position = torch.arange(steps, dtype=torch.float32).unsqueeze(1)  # (steps, 1)
    frequency = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
    table = torch.zeros(steps, width)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)[:, : width // 2]  # an odd width: one cos column fewer
    return table  # (steps, width)


class ColumnTokens(nn.Module):
    """A table row as tokens: column j's value times its own learned vector, plus its own bias vector."""

    def __init__(self, columns, width):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(columns, width).uniform_(-1.0, 1.0))
        self.bias = nn.Parameter(torch.empty(columns, width).uniform_(-1.0, 1.0))

    def forward(self, x):  # x: (batch, columns)
        return x.unsqueeze(-1) * self.weight + self.bias  # (batch, columns, width)


class SelfAttentionEncoder(nn.Module):
    """Project each step (or column) to model_dim, add positions, run pre-norm transformer blocks, pool."""

    def __init__(self, steps, features, model_dim, heads, ff_dim, dropout, positions, blocks, pooling,
                 columns=False):
        super().__init__()
        if columns:  # a table row: one token per column
            self.project = ColumnTokens(steps, model_dim)
        else:
            self.project = nn.Linear(features, model_dim) if features != model_dim else nn.Identity()
        self.pooling = pooling
        # "cls": a learned summary token put in front of the sequence; its final state is the output.
        self.cls = nn.Parameter(torch.zeros(1, 1, model_dim)) if pooling == "cls" else None
        length = steps + (1 if pooling == "cls" else 0)
        if positions == "learned":  # one trained vector per position
            self.position = nn.Parameter(torch.randn(1, length, model_dim) * 0.02)
        elif positions == "sinusoidal":  # fixed waves, recomputed here rather than saved
            table = sinusoidal_positions(length, model_dim).unsqueeze(0)  # (1, length, d)
            self.register_buffer("position", table, persistent=False)
        else:
            self.position = None
        # Pre-norm blocks (norm_first) and a final LayerNorm train stably without a learning-rate warm-up
        layer = nn.TransformerEncoderLayer(model_dim, heads, ff_dim, dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, blocks, norm=nn.LayerNorm(model_dim),
                                             enable_nested_tensor=False)

    def forward(self, x):  # x: (batch, T, features), or (batch, columns) for a table
        h = self.project(x)  # (batch, T, d)
        if self.cls is not None:
            h = torch.cat([self.cls.expand(h.shape[0], -1, -1), h], dim=1)  # (batch, 1 + T, d)
        if self.position is not None:
            h = h + self.position[:, : h.shape[1]]
        h = self.encoder(h)  # every step attends to every other step
        if self.pooling == "mean":
            return h.mean(dim=1)  # (batch, d)
        if self.pooling == "cls":
            return h[:, 0]  # (batch, d)
        if self.pooling == "last":
            return h[:, -1]  # (batch, d)
        return h  # (batch, T, d)


'''
HELPERS = {"transformer": _TRANSFORMER}
