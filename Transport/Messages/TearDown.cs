namespace FlowOrleans.Transport.Messages;

/// <summary>Closes the whole connection, with the error code the closing side reports and a human-readable reason.</summary>
public sealed record TearDown(FlowErrorCode Code, string Reason) : Message
{
    internal override MessageType Type => MessageType.TearDown;
}
