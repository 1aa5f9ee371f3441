namespace FlowOrleans.Transport.Security;

/// <summary>
/// A bounded, least-recently-used set of decoded <see cref="Blessings"/> whose certificate signatures all verified,
/// keyed by their exact encoding. A peer presents the same blessings on every connection, and decoding them (one
/// P-256 key import per certificate, which OpenSSL validates with a scalar multiplication) plus checking every link's
/// signature costs more than the rest of the handshake's asymmetric work on one side. A hit returns the instance
/// decoded earlier, so neither is repeated.
/// </summary>
/// <remarks>
/// <para>
/// What is cached is only the outcome of a pure function of the bytes: "these exact bytes decode to this chain and
/// every link is signed by the key it extends". Lookups compare the whole encoding, never a hash alone, so a chain
/// that differs in any byte (a tampered signature, caveat or name) misses and is decoded and checked afresh. Nothing
/// that depends on the call is cached: roots, caveats (expiry among them), discharges, the peer's proof of
/// possession over the transcript and the authorizer run on every handshake.
/// </para>
/// <para>
/// Only verified blessings are added, so a peer sending forgeries cannot make them cheap to re-check; it can evict
/// entries by presenting many distinct valid chains, which costs it a signature per chain and only costs us the
/// work the cache saves. Evicted instances are not disposed: live connections may still hold them.
/// </para>
/// </remarks>
internal sealed class VerifiedBlessingsCache
{
    /// <summary>Entries in <see cref="Shared"/>: far more peers than a process talks to at once, at a few KiB each.</summary>
    public const int DefaultCapacity = 512;

    private readonly Lock _lock = new();
    private readonly Dictionary<byte[], LinkedListNode<Entry>> _entries;
    private readonly Dictionary<byte[], LinkedListNode<Entry>>.AlternateLookup<ReadOnlySpan<byte>> _bySpan;

    // Most recently used first.
    private readonly LinkedList<Entry> _order = new();

    public VerifiedBlessingsCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _entries = new Dictionary<byte[], LinkedListNode<Entry>>(capacity, EncodingComparer.Instance);
        _bySpan = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    /// <summary>The process-wide cache that <see cref="Blessings.Decode"/> consults.</summary>
    public static VerifiedBlessingsCache Shared { get; } = new(DefaultCapacity);

    public int Capacity { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>The verified blessings encoded exactly as <paramref name="encoded"/>, if still cached.</summary>
    public bool TryGet(ReadOnlySpan<byte> encoded, out Blessings blessings)
    {
        lock (_lock)
        {
            if (_bySpan.TryGetValue(encoded, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                blessings = node.Value.Blessings;
                return true;
            }
        }

        blessings = null!;
        return false;
    }

    /// <summary>Remembers blessings whose signatures were just verified; evicts the least recently used beyond capacity.</summary>
    public void AddVerified(Blessings blessings, byte[] encoded)
    {
        lock (_lock)
        {
            if (_entries.ContainsKey(encoded))
            {
                return;
            }

            _entries.Add(encoded, _order.AddFirst(new Entry(encoded, blessings)));
            if (_entries.Count > Capacity)
            {
                var oldest = _order.Last!;
                _order.RemoveLast();
                _entries.Remove(oldest.Value.Encoded);
            }
        }
    }

    private sealed record Entry(byte[] Encoded, Blessings Blessings);

    /// <summary>Compares whole encodings; looks up by span so a hit allocates nothing.</summary>
    private sealed class EncodingComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static EncodingComparer Instance { get; } = new();

        public bool Equals(byte[]? x, byte[]? y) => ReferenceEquals(x, y) || (x is not null && y is not null && x.AsSpan().SequenceEqual(y));

        public int GetHashCode(byte[] obj) => GetHashCode(obj.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = new HashCode();
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
