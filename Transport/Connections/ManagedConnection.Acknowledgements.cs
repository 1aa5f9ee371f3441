using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// Acknowledgements that ride with replies (docs/architecture.md 3.4): the acknowledgement of an open that carried data
/// waits for the first record this side sends, and these are the ways it is sent without one.
/// </summary>
public sealed partial class ManagedConnection
{
    /// <summary>An acknowledgement still riding goes now (the peer may wait for it to send more).</summary>
    void IFlowConnection.FlushAcknowledgement(Flow flow)
    {
        if (!flow.Send.AcknowledgementRiding)
        {
            return;
        }

        bool queued;
        lock (_queue.Lock)
        {
            if (flow.Send.TryRequestAcknowledgementFlush())
            {
                return; // not queued yet: the offer under way sends it at once
            }

            flow.Send.SetAcknowledgementRiding(false);
            queued = _ledger.IsReleaseQueuedLocked(flow.Id);
        }

        if (queued)
        {
            _writer.Signal();
        }
    }

    /// <summary>
    /// The read loop received <paramref name="bytes"/> on a flow whose acknowledgement may still be riding: counts them
    /// towards waking the writer (<see cref="CreditLedger.AddRidingAckBytesLocked"/>), or notes that it went out.
    /// </summary>
    internal void OnRidingAckData(Flow flow, int bytes)
    {
        bool wake;
        lock (_queue.Lock)
        {
            if (!_ledger.IsReleaseQueuedLocked(flow.Id))
            {
                flow.Send.SetAcknowledgementRiding(false);
                return;
            }

            wake = _ledger.AddRidingAckBytesLocked(bytes);
        }

        if (wake)
        {
            _writer.Signal();
        }
    }
}
