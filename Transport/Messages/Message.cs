namespace FlowOrleans.Transport.Messages;

/// <summary>
/// A wire message of the flow protocol. The set of messages is closed: every subtype lives in this
/// assembly and <see cref="MessageCodec"/> is the only thing that turns them into bytes and back.
/// </summary>
/// <remarks>
/// <see cref="System.Buffers.ReadOnlySequence{T}"/> fields of a decoded message are slices of the buffer
/// it was decoded from, not copies: they are valid only until the caller releases that buffer
/// (for a pipe, until it advances past the message).
/// </remarks>
public abstract record Message
{
    // Internal and abstract so no other assembly can add a message the codec does not know.
    internal abstract MessageType Type { get; }
}
