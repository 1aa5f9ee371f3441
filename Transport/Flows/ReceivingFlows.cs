namespace FlowOrleans.Transport.Flows;

/// <summary>
/// Whether any flow of a connection has lately been receiving small messages, read as they arrive: then bulk windows
/// are held down (<see cref="Connections.ConnectionOptions.MessageTrafficWindow"/>), because every byte in them can
/// queue ahead of those messages. Time is cut into fixed intervals and the answer comes from the last whole one, so it
/// neither flickers as an interval starts nor remembers flows that went quiet long ago.
/// </summary>
/// <remarks>
/// Only the connection's read loop calls <see cref="OnReceived"/>; <see cref="AnyMessageFlow"/> may be read from any
/// thread and is approximate by design.
/// </remarks>
internal sealed class ReceivingFlows(TimeProvider timeProvider)
{
    // Long enough to see a flow of messages deliver a few, short enough to notice it going quiet.
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(5);

    // A flow that receives less than this per interval, to a reader that waits for it, carries messages (3 MB/s).
    private const int MessageFlowBytes = 16 * 1024;

    private readonly long _intervalTicks = Math.Max(1, (long)(Interval.TotalSeconds * timeProvider.TimestampFrequency));
    private long _currentInterval = long.MinValue;
    private int _messageFlows;
    private int _lastMessageFlows;

    /// <summary>
    /// Whether, in the last whole interval, some flow received under <see cref="MessageFlowBytes"/> and at least one of its
    /// deliveries found its reader waiting: a flow of messages, as opposed to a bulk or a slowly read flow.
    /// </summary>
    public bool AnyMessageFlow => Volatile.Read(ref _lastMessageFlows) > 0;

    /// <summary>Notes that a flow received <paramref name="length"/> bytes; <paramref name="activity"/> is that flow's own record.</summary>
    public void OnReceived(ref ReceiveActivity activity, int length, bool readerWaiting)
    {
        var now = timeProvider.GetTimestamp() / _intervalTicks;
        if (now != _currentInterval)
        {
            Volatile.Write(ref _lastMessageFlows, now == _currentInterval + 1 ? _messageFlows : 0);
            _messageFlows = 0;
            _currentInterval = now;
        }

        if (activity.Interval != unchecked((int)now))
        {
            activity = new ReceiveActivity { Interval = unchecked((int)now) };
        }

        var wasMessageFlow = activity.IsMessageFlow(MessageFlowBytes);
        activity.Bytes = (int)Math.Min((long)activity.Bytes + length, int.MaxValue);
        activity.ReaderWaited |= readerWaiting;
        var isMessageFlow = activity.IsMessageFlow(MessageFlowBytes);
        if (isMessageFlow != wasMessageFlow)
        {
            _messageFlows += isMessageFlow ? 1 : -1;
        }
    }
}
