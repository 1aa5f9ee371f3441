namespace FlowOrleans.Transport.Flows;

/// <summary>One flow's receiving in the current interval of its connection's <see cref="ReceivingFlows"/>.</summary>
internal struct ReceiveActivity
{
    public ReceiveActivity()
    {
    }

    /// <summary>The interval's number, truncated: an int keeps the struct (one per flow) small, and numbers that collide are 248 days of 5 ms intervals apart.</summary>
    public int Interval { get; set; } = int.MinValue;

    public int Bytes { get; set; }

    public bool ReaderWaited { get; set; }

    public readonly bool IsMessageFlow(int messageFlowBytes) => ReaderWaited && Bytes < messageFlowBytes;
}
