using System.Buffers;

namespace FlowOrleans.Tests.Messages;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> that hands out spans no bigger than the contract forces (the size hint,
/// or a few bytes), like a pipe near the end of a segment: exercises every piece-by-piece path of the encoder.
/// </summary>
internal sealed class ChunkedBufferWriter(int chunk) : IBufferWriter<byte>
{
    private readonly List<byte> _written = [];
    private byte[] _current = [];

    public byte[] WrittenBytes => [.. _written];

    public void Advance(int count)
    {
        if (count < 0 || count > _current.Length)
        {
            throw new InvalidOperationException($"Advance({count}) past the {_current.Length}-byte span.");
        }

        _written.AddRange(_current.AsSpan(0, count));
        _current = [];
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        // A fresh array each time, filled with junk, so stale or unwritten bytes would show.
        _current = new byte[Math.Max(sizeHint, chunk)];
        _current.AsSpan().Fill(0xCD);
        return _current;
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
