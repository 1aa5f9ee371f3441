using System.Buffers;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Transport.Flows;

/// <summary>A flow's writes: each registers with the connection's send queue and waits until the writer took it all.</summary>
internal sealed partial class Flow
{
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => data.IsEmpty ? ValueTask.CompletedTask : WriteCoreAsync(data, close: false, cancellationToken);

    public ValueTask<int> WriteMessageAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
        => WriteMessageCoreAsync(buffers, close: false, cancellationToken);

    public ValueTask<int> WriteMessageAndCloseAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
        => WriteMessageCoreAsync(buffers, close: true, cancellationToken);

    public ValueTask CloseWriteAsync(CancellationToken cancellationToken = default)
        => WriteCoreAsync(ReadOnlyMemory<byte>.Empty, close: true, cancellationToken);

    private async ValueTask<int> WriteMessageCoreAsync(IReadOnlyList<ReadOnlyMemory<byte>> buffers, bool close, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        long total = 0;
        foreach (var b in buffers)
        {
            total += b.Length;
        }

        if (total == 0 || buffers.Count == 1)
        {
            // No bytes: nothing to wait for unless closing (like WriteAsync; payloads are never empty on the wire).
            if (total > 0 || close)
            {
                await WriteCoreAsync(total == 0 ? ReadOnlyMemory<byte>.Empty : buffers[0], close, cancellationToken).ConfigureAwait(false);
            }

            return (int)total;
        }

        if (total > RecordLayout.MaxPayload * 1024L)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"A message of {total} bytes is too large; write it as a stream.");
        }

        // One message must reach the writer as one run of bytes, so gather the parts into one pooled block.
        var gathered = ArrayPool<byte>.Shared.Rent((int)Math.Max(total, 1));
        try
        {
            var offset = 0;
            foreach (var b in buffers)
            {
                b.Span.CopyTo(gathered.AsSpan(offset));
                offset += b.Length;
            }

            await WriteCoreAsync(gathered.AsMemory(0, offset), close, cancellationToken).ConfigureAwait(false);
            return offset;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(gathered);
        }
    }

    private async ValueTask WriteCoreAsync(ReadOnlyMemory<byte> data, bool close, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (!_connection.BeginWrite(this, data, close))
        {
            return;
        }

        await _connection.KickWriterAsync().ConfigureAwait(false);

        await using (cancellationToken.CanBeCanceled
            ? cancellationToken.UnsafeRegister(static s => ((Flow)s!)._connection.CancelWrite((Flow)s!), this)
            : default)
        {
            await Send.WaitForWriteAsync().ConfigureAwait(false);
        }

        _connection.EndWrite(this, cancellationToken);
    }
}
