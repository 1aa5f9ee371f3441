using System.Buffers;
using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// An immutable set of discharges keyed by <see cref="Discharge.ThirdPartyCaveatId"/>, as presented by
/// a peer alongside its blessings.
/// </summary>
/// <remarks>Encoding (v1): <c>u8 version, u8 count, discharges (without version) in ordinal id order</c>.</remarks>
[SuppressMessage(
    "Naming",
    "CA1710:Identifiers should have correct suffix",
    Justification = "Named after Vanadium's discharge set and paired with Blessings; a 'Dictionary' suffix would hide that.")]
public sealed class Discharges : IReadOnlyDictionary<string, Discharge>
{
    private const byte Version = 1;

    // Sorted by id (ordinal) so the encoding is canonical.
    private readonly SortedDictionary<string, Discharge> _byId;

    private Discharges(SortedDictionary<string, Discharge> byId)
    {
        _byId = byId;
    }

    public static Discharges Empty { get; } = new(new SortedDictionary<string, Discharge>(StringComparer.Ordinal));

    /// <summary>Collects discharges by id; when two share an id, the later one wins.</summary>
    public static Discharges Create(IEnumerable<Discharge> discharges)
    {
        ArgumentNullException.ThrowIfNull(discharges);
        var byId = new SortedDictionary<string, Discharge>(StringComparer.Ordinal);
        foreach (var discharge in discharges)
        {
            ArgumentNullException.ThrowIfNull(discharge, nameof(discharges));
            byId[discharge.ThirdPartyCaveatId] = discharge;
        }

        if (byId.Count > SecurityLimits.MaxDischarges)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"At most {SecurityLimits.MaxDischarges} discharges can be presented.");
        }

        return byId.Count == 0 ? Empty : new Discharges(byId);
    }

    public static Discharges Create(params Discharge[] discharges) => Create((IEnumerable<Discharge>)discharges);

    public int Count => _byId.Count;

    public Discharge this[string key] => _byId[key];

    public IEnumerable<string> Keys => _byId.Keys;

    public IEnumerable<Discharge> Values => _byId.Values;

    public bool ContainsKey(string key) => _byId.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out Discharge value) => _byId.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<string, Discharge>> GetEnumerator() => _byId.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public void Encode(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SecurityWriter.WriteByte(writer, Version);
        SecurityWriter.WriteByte(writer, (byte)_byId.Count);
        foreach (var discharge in _byId.Values)
        {
            discharge.WriteBody(writer);
        }
    }

    public byte[] ToBytes()
    {
        var writer = new ArrayBufferWriter<byte>();
        Encode(writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Decodes <see cref="ToBytes"/> output; malformed or non-canonical input is <see cref="FlowErrorCode.BadArg"/>.</summary>
    public static Discharges Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > SecurityLimits.MaxEncodedBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, "Malformed discharges: too large.");
        }

        var reader = new SecurityReader(bytes, "discharges");
        if (reader.ReadByte() != Version)
        {
            throw reader.Malformed("unsupported version");
        }

        // Smallest discharge: u16 id length, one id byte, u8 caveat count, signature.
        var count = reader.ReadCount(0, SecurityLimits.MaxDischarges, 4 + SignatureScheme.SignatureSize, "discharge");
        var byId = new SortedDictionary<string, Discharge>(StringComparer.Ordinal);
        string? previous = null;
        for (var i = 0; i < count; i++)
        {
            var discharge = Discharge.ReadBody(ref reader);
            if (previous is not null && string.CompareOrdinal(previous, discharge.ThirdPartyCaveatId) >= 0)
            {
                throw reader.Malformed("discharges are not in strictly ascending id order");
            }

            previous = discharge.ThirdPartyCaveatId;
            byId.Add(discharge.ThirdPartyCaveatId, discharge);
        }

        reader.EnsureEnd();
        return count == 0 ? Empty : new Discharges(byId);
    }
}
