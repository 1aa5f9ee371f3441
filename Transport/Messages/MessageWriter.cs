using System.Buffers;
using System.Text;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// Writes fields into an <see cref="IBufferWriter{T}"/> through a cached span, so small fields cost a
/// bounds check instead of a GetSpan/Advance pair each. Byte strings are copied in whatever pieces the
/// output hands out, so a large payload never needs one contiguous buffer. Call <see cref="Commit"/> at the end.
/// </summary>
internal ref struct MessageWriter
{
    private readonly IBufferWriter<byte> _output;
    private Span<byte> _span;
    private int _buffered;

    public MessageWriter(IBufferWriter<byte> output, int sizeHint)
    {
        _output = output;
        _span = output.GetSpan(sizeHint);
        _buffered = 0;
    }

    public void WriteByte(byte value)
    {
        Ensure(1);
        _span[_buffered++] = value;
    }

    public void WriteVarInt(ulong value)
    {
        Ensure(VarInt.GetLength(value));
        _buffered += VarInt.Write(_span[_buffered..], value);
    }

    /// <summary>Writes a length-prefixed byte string.</summary>
    public void WriteBytes(in ReadOnlySequence<byte> value)
    {
        WriteVarInt((ulong)value.Length);
        WriteRaw(value);
    }

    /// <summary>Writes bytes with no prefix: the trailing payload of Data and OpenFlow.</summary>
    public void WriteRaw(in ReadOnlySequence<byte> value)
    {
        foreach (ReadOnlyMemory<byte> segment in value)
        {
            ReadOnlySpan<byte> source = segment.Span;
            while (!source.IsEmpty)
            {
                if (_buffered == _span.Length)
                {
                    Ensure(1);
                }

                int count = Math.Min(source.Length, _span.Length - _buffered);
                source[..count].CopyTo(_span[_buffered..]);
                _buffered += count;
                source = source[count..];
            }
        }
    }

    /// <summary>Writes a length-prefixed string whose UTF-8 length the caller already measured (and so validated).</summary>
    public void WriteString(string value, int byteCount)
    {
        WriteVarInt((uint)byteCount);
        if (byteCount <= _span.Length - _buffered)
        {
            _buffered += MessageCodec.StrictUtf8.GetBytes(value, _span[_buffered..]);
            return;
        }

        // Too big for the cached span: let the encoder write straight to the output in pieces.
        Commit();
        MessageCodec.StrictUtf8.GetBytes(value.AsSpan(), _output);
    }

    /// <summary>Hands the buffered bytes to the output. The writer may continue afterwards.</summary>
    public void Commit()
    {
        if (_buffered > 0)
        {
            _output.Advance(_buffered);
        }

        _span = default;
        _buffered = 0;
    }

    private void Ensure(int count)
    {
        if (_span.Length - _buffered < count)
        {
            Commit();
            _span = _output.GetSpan(count);
        }
    }
}
