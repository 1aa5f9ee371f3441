namespace FlowOrleans.Transport.Messages;

/// <summary>Tells the peer this side is going away: open no new flows on this connection.</summary>
public sealed record EnterLameDuck : Message
{
    // Bodiless, so the decoder hands out one shared instance instead of allocating.
    internal static readonly EnterLameDuck Instance = new();

    internal override MessageType Type => MessageType.EnterLameDuck;
}
