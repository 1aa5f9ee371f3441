using System.Security.Cryptography;

namespace FlowOrleans.Tests.Reliability;

/// <summary>
/// An endless, seeded byte sequence (SplitMix64) that a sender generates and a receiver checks byte for byte as it
/// reads, so a test knows not only that the bytes differ at the end but the first offset where they went wrong.
/// </summary>
internal sealed class PayloadPattern(ulong seed)
{
    private ulong _state = seed;
    private ulong _word;
    private int _left;

    public ulong Seed { get; } = seed;

    /// <summary>Bytes generated (or checked) so far.</summary>
    public long Position { get; private set; }

    /// <summary>The SHA-256 of the first <paramref name="count"/> bytes of pattern <paramref name="seed"/>: what a sender would publish.</summary>
    public static byte[] Sha256(ulong seed, int count)
    {
        var bytes = new byte[count];
        new PayloadPattern(seed).Fill(bytes);
        return SHA256.HashData(bytes);
    }

    public void Fill(Span<byte> destination)
    {
        for (var i = 0; i < destination.Length; i++)
        {
            destination[i] = Next();
        }
    }

    /// <summary>Checks <paramref name="received"/> against the next bytes; the offset of the first wrong byte, or -1.</summary>
    public long Verify(ReadOnlySpan<byte> received)
    {
        for (var i = 0; i < received.Length; i++)
        {
            var at = Position;
            if (Next() != received[i])
            {
                return at;
            }
        }

        return -1;
    }

    private byte Next()
    {
        if (_left == 0)
        {
            _state += 0x9E3779B97F4A7C15UL;
            var z = _state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            _word = z ^ (z >> 31);
            _left = 8;
        }

        var b = (byte)_word;
        _word >>= 8;
        _left--;
        Position++;
        return b;
    }
}
