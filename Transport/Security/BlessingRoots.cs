using System.Buffers;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// The public keys a principal trusts as authorities on blessing names, each for the names matching
/// some patterns: a chain is recognised only if its first key was added with a pattern its name matches.
/// Safe for concurrent use; reads (every handshake) take no lock.
/// </summary>
public sealed class BlessingRoots
{
    private const byte Version = 1;

    private readonly Lock _writeLock = new();

    // Copy-on-write: writers replace the whole map under the lock; readers use whichever map they see.
    private volatile Dictionary<PublicKey, BlessingPattern[]> _roots = [];

    /// <summary>Trusts <paramref name="root"/> for names matching <paramref name="pattern"/> (which must be valid).</summary>
    public void Add(PublicKey root, BlessingPattern pattern)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (!pattern.IsValid)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"\"{pattern}\" is not a valid blessing pattern.");
        }

        lock (_writeLock)
        {
            var current = _roots;
            current.TryGetValue(root, out var patterns);
            patterns ??= [];
            if (Array.IndexOf(patterns, pattern) >= 0)
            {
                return;
            }

            if (Count(current) >= SecurityLimits.MaxRoots)
            {
                throw new FlowException(FlowErrorCode.BadArg, $"At most {SecurityLimits.MaxRoots} roots can be recognised.");
            }

            var next = new Dictionary<PublicKey, BlessingPattern[]>(current)
            {
                [root] = [.. patterns, pattern],
            };
            _roots = next;
        }
    }

    /// <summary>
    /// Trusts the first key of every chain of <paramref name="blessings"/> for names under that chain's
    /// first extension (so adding <c>root:alice</c> trusts its root key for <c>root</c> and its extensions).
    /// </summary>
    public void AddRootsOf(Blessings blessings)
    {
        ArgumentNullException.ThrowIfNull(blessings);
        foreach (var chain in blessings.ChainSpan)
        {
            Add(chain[0].PublicKey, new BlessingPattern(chain[0].Extension));
        }
    }

    public bool IsRecognized(PublicKey root, string blessingName)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(blessingName);
        if (!_roots.TryGetValue(root, out var patterns))
        {
            return false;
        }

        foreach (var pattern in patterns)
        {
            if (pattern.Matches(blessingName))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A snapshot of every (root, pattern) entry, e.g. for display or persistence.</summary>
    public IReadOnlyList<KeyValuePair<PublicKey, BlessingPattern>> Dump()
    {
        var result = new List<KeyValuePair<PublicKey, BlessingPattern>>();
        foreach (var (root, patterns) in _roots)
        {
            foreach (var pattern in patterns)
            {
                result.Add(new(root, pattern));
            }
        }

        return result.AsReadOnly();
    }

    /// <summary>Encoding (v1): <c>u8 version, u16 count, per entry: u16+DER key, u16+utf8 pattern</c>.</summary>
    internal void Encode(IBufferWriter<byte> writer)
    {
        var entries = Dump();
        SecurityWriter.WriteByte(writer, Version);
        SecurityWriter.WriteUInt16(writer, (ushort)entries.Count);
        foreach (var (root, pattern) in entries)
        {
            SecurityWriter.WriteLengthPrefixed(writer, root.Span);
            SecurityWriter.WriteString(writer, pattern.Value);
        }
    }

    internal static BlessingRoots Decode(ref SecurityReader reader)
    {
        if (reader.ReadByte() != Version)
        {
            throw reader.Malformed("unsupported roots version");
        }

        int count = reader.ReadUInt16();
        if (count > SecurityLimits.MaxRoots)
        {
            throw reader.Malformed("too many roots");
        }

        // Built directly rather than through Add, which copies the map per entry.
        var map = new Dictionary<PublicKey, List<BlessingPattern>>();
        for (var i = 0; i < count; i++)
        {
            var root = PublicKey.FromBytes(reader.ReadLengthPrefixed(SecurityLimits.MaxPublicKeyBytes, "root key"));
            var pattern = new BlessingPattern(reader.ReadString(SecurityLimits.MaxPatternBytes, "root pattern"));
            if (!pattern.IsValid)
            {
                throw reader.Malformed($"invalid root pattern \"{pattern}\"");
            }

            if (!map.TryGetValue(root, out var patterns))
            {
                map[root] = patterns = [];
            }

            if (!patterns.Contains(pattern))
            {
                patterns.Add(pattern);
            }
        }

        var roots = new BlessingRoots();
        roots._roots = map.ToDictionary(entry => entry.Key, entry => entry.Value.ToArray());
        return roots;
    }

    private static int Count(Dictionary<PublicKey, BlessingPattern[]> roots)
    {
        var count = 0;
        foreach (var patterns in roots.Values)
        {
            count += patterns.Length;
        }

        return count;
    }
}
