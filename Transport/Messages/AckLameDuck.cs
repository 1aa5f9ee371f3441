namespace FlowOrleans.Transport.Messages;

/// <summary>Acknowledges <see cref="EnterLameDuck"/>: the peer will open no new flows.</summary>
public sealed record AckLameDuck : Message
{
    internal static readonly AckLameDuck Instance = new();

    internal override MessageType Type => MessageType.AckLameDuck;
}
