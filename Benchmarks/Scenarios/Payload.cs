namespace FlowOrleans.Benchmarks.Scenarios;

/// <summary>
/// The bytes every scenario sends: one seeded random pattern, made once per process, and a stream position's bytes
/// are the pattern's at that position modulo its period. The period is prime, so no write or read size divides it:
/// a lost, repeated or reordered write shifts every later byte against the pattern and fails the check, and a
/// system cannot pass by delivering the right count of stale or constant bytes.
/// </summary>
internal static class Payload
{
    /// <summary>The longest slice <see cref="At"/> returns, and the bulk scenarios' write size.</summary>
    public const int MaxSlice = 64 * 1024;

    private const int Seed = 21;

    // A prime just above 1 MiB: large enough that the writer's slices are not all cached copies of each other.
    private const int Period = 1_048_583;

    // The period followed by its own first MaxSlice bytes, so any slice starting inside the period is contiguous.
    private static readonly byte[] s_pattern = Create();

    /// <summary>The <paramref name="length"/> bytes at stream position <paramref name="position"/>.</summary>
    public static ReadOnlyMemory<byte> At(long position, int length)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxSlice);
        return s_pattern.AsMemory((int)(position % Period), length);
    }

    /// <summary>
    /// Compares bytes received at stream position <paramref name="position"/> with what was sent there, and throws
    /// <see cref="InvalidDataException"/> naming the first wrong position. One vectorised compare per call, at the
    /// same cost per byte for every system.
    /// </summary>
    public static void Check(long position, ReadOnlySpan<byte> received)
    {
        while (!received.IsEmpty)
        {
            var length = Math.Min(received.Length, MaxSlice);
            var expected = At(position, length).Span;
            var chunk = received[..length];
            if (!chunk.SequenceEqual(expected))
            {
                var at = position + chunk.CommonPrefixLength(expected);
                throw new InvalidDataException($"Byte {at} of the stream differs from what was sent.");
            }

            position += length;
            received = received[length..];
        }
    }

    private static byte[] Create()
    {
        var pattern = new byte[Period + MaxSlice];
        new Random(Seed).NextBytes(pattern.AsSpan(0, Period));
        pattern.AsSpan(0, MaxSlice).CopyTo(pattern.AsSpan(Period));
        return pattern;
    }
}
