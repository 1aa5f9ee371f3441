namespace FlowOrleans.Transport.Messages;

/// <summary>Closes the whole connection, with a human-readable reason.</summary>
public sealed record TearDown(string Reason) : Message
{
    internal override MessageType Type => MessageType.TearDown;
}
