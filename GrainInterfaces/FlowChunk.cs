using System.Buffers;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// Bytes a caller writes to a flow a silo holds, as a grain-call argument. The caller's memory is serialised as it is
/// (no copy beyond the serialiser's own: Orleans' caller-side copy borrows it, see <see cref="FlowChunkCopier"/>), and
/// the silo reads it into an array rented from the shared pool rather than a new one, so a silo relaying a stream
/// allocates nothing per chunk. The receiver owns a deserialised chunk and gives its array back with
/// <see cref="Release"/> once the flow took the bytes; one release, and no use after it.
/// </summary>
public readonly struct FlowChunk
{
    /// <summary>Chunks up to this size are read into pooled arrays; larger ones (only a direct caller sends them) are not.</summary>
    internal const int MaxPooledLength = 64 * 1024;

    private readonly byte[]? _rented;

    /// <summary>A chunk of <paramref name="bytes"/>, which must stay unchanged until the call completes.</summary>
    public FlowChunk(ReadOnlyMemory<byte> bytes) => Bytes = bytes;

    private FlowChunk(byte[] rented, int length)
    {
        _rented = rented;
        Bytes = rented.AsMemory(0, length);
    }

    /// <summary>The chunk's bytes.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    public static implicit operator FlowChunk(ReadOnlyMemory<byte> bytes) => new(bytes);

    public static implicit operator FlowChunk(byte[] bytes) => new(bytes);

    /// <summary>Gives a pooled chunk's array back; nothing for a chunk that borrowed the caller's memory.</summary>
    public void Release()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }
    }

    /// <summary>
    /// A chunk of <paramref name="length"/> bytes the receiver owns, to be filled through <paramref name="fill"/>: in a
    /// pooled array up to <see cref="MaxPooledLength"/>, in an array of its own beyond.
    /// </summary>
    internal static FlowChunk Rent(int length, out Span<byte> fill)
    {
        if (length == 0)
        {
            fill = default;
            return default;
        }

        if (length > MaxPooledLength)
        {
            var own = new byte[length];
            fill = own;
            return new FlowChunk(own);
        }

        var rented = ArrayPool<byte>.Shared.Rent(length);
        fill = rented.AsSpan(0, length);
        return new FlowChunk(rented, length);
    }
}
