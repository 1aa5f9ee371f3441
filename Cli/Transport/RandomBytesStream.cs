using System.Buffers.Binary;

namespace FlowOrleans.Cli.Transport;

/// <summary>
/// A read-only stream of <c>length</c> pseudo-random bytes from a seed (SplitMix64 over 8-byte blocks): the same seed
/// gives the same bytes however the reads are sized, so the echo of <c>--bytes N</c> is checked without storing it.
/// Not for secrets.
/// </summary>
internal sealed class RandomBytesStream(long length, ulong seed) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        Span<byte> block = stackalloc byte[sizeof(ulong)];
        for (var i = 0; i < count;)
        {
            var within = (int)(_position % sizeof(ulong));
            var value = Mix(seed + ((ulong)(_position / sizeof(ulong)) * 0x9E3779B97F4A7C15UL));
            int take;
            if (within == 0 && count - i >= sizeof(ulong))
            {
                BinaryPrimitives.WriteUInt64LittleEndian(buffer[i..], value);
                take = sizeof(ulong);
            }
            else
            {
                // A read that starts or ends inside a block takes part of it.
                BinaryPrimitives.WriteUInt64LittleEndian(block, value);
                take = Math.Min(sizeof(ulong) - within, count - i);
                block.Slice(within, take).CopyTo(buffer[i..]);
            }

            i += take;
            _position += take;
        }

        return count;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
