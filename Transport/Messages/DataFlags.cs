namespace FlowOrleans.Transport.Messages;

/// <summary>Flags of <see cref="Data"/> and <see cref="OpenFlow"/>. Bits not defined here are rejected on the wire.</summary>
[Flags]
public enum DataFlags : byte
{
    None = 0,

    /// <summary>The sender will write no more on this flow (a graceful half-close after the payload).</summary>
    Close = 1,
}
