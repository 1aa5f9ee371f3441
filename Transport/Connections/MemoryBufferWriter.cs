using System.Buffers;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over one fixed block of memory, so the codec can write messages straight into a
/// record under construction. Asking for more room than is left is a bug in the caller's size accounting.
/// </summary>
internal sealed class MemoryBufferWriter : IBufferWriter<byte>
{
    private Memory<byte> _memory;

    public int Written { get; private set; }

    public int Remaining => _memory.Length - Written;

    public Memory<byte> WrittenMemory => _memory[..Written];

    public void Reset(Memory<byte> memory)
    {
        _memory = memory;
        Written = 0;
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (count > Remaining)
        {
            throw new InvalidOperationException("Advanced past the end of the record buffer.");
        }

        Written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _memory[Written..];
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _memory.Span[Written..];
    }

    private void EnsureRoom(int sizeHint)
    {
        if (Math.Max(sizeHint, 1) > Remaining)
        {
            throw new InvalidOperationException($"Record buffer has {Remaining} bytes left, {sizeHint} requested.");
        }
    }
}
