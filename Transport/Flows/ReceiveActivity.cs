namespace FlowOrleans.Transport.Flows;

/// <summary>One flow's receiving in the current interval of its connection's <see cref="ReceivingFlows"/>.</summary>
internal struct ReceiveActivity
{
    public ReceiveActivity()
    {
    }

    public long Interval { get; set; } = long.MinValue;

    public int Bytes { get; set; }

    public bool ReaderWaited { get; set; }

    public readonly bool IsMessageFlow(int messageFlowBytes) => ReaderWaited && Bytes < messageFlowBytes;
}
