using System.Buffers;
using FlowOrleans.Transport.Messages;

namespace FlowOrleans.Transport.Proxy;

/// <summary>Whole messages as single frames of a <see cref="FlowFramedConnection"/>: the proxy's control traffic.</summary>
internal static class ProxyWire
{
    /// <summary>Larger than any proxy control message or handshake Setup.</summary>
    private const int MaxControlMessage = 64 * 1024;

    public static ValueTask WriteAsync(FlowFramedConnection connection, Message message, CancellationToken cancellationToken)
    {
        var writer = new ArrayBufferWriter<byte>(MessageCodec.GetEncodedLength(message));
        MessageCodec.Write(writer, message);
        writer.WrittenSpan.CopyTo(connection.GetFrameBuffer(writer.WrittenCount).Span);
        connection.CommitFrame();
        return connection.FlushAsync(cancellationToken);
    }

    public static async ValueTask WriteRawAsync(FlowFramedConnection connection, byte[] frame, CancellationToken cancellationToken)
    {
        frame.CopyTo(connection.GetFrameBuffer(frame.Length));
        connection.CommitFrame();
        await connection.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads one frame holding exactly one message. Returns the frame's bytes too (the message's byte fields are
    /// slices of them), so a proxy can forward the frame unchanged.
    /// </summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.Network"/> when the flow ends first; <see cref="FlowErrorCode.BadArg"/> for anything but one message.</exception>
    public static async ValueTask<(Message Message, byte[] Frame)> ReadAsync(FlowFramedConnection connection, CancellationToken cancellationToken)
    {
        var result = await connection.ReadFrameAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted)
        {
            throw new FlowException(FlowErrorCode.Network, "The flow ended before its first message.");
        }

        var frame = result.Payload.ToArray();
        var bytes = new ReadOnlySequence<byte>(frame);
        if (!MessageCodec.TryRead(bytes, MaxControlMessage, out var message, out var consumed) || !consumed.Equals(bytes.End))
        {
            throw new FlowException(FlowErrorCode.BadArg, "A proxy control frame does not hold exactly one message.");
        }

        return (message, frame);
    }
}
