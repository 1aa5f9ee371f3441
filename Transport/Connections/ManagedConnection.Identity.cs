using System.Net;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Connections;

/// <summary>Who the two sides of the connection are and what they presented; discharges stay fresh (<see cref="DischargeRefresh"/>).</summary>
public sealed partial class ManagedConnection
{
    public Blessings LocalBlessings => _session.LocalBlessings;

    public Blessings RemoteBlessings => _session.RemoteBlessings;

    /// <summary>The discharges this side presented last: those of the handshake until a refresh sent newer ones.</summary>
    public Discharges LocalDischarges => _discharges.Local;

    /// <summary>The peer's discharges as this side's authorizer accepted them last: the handshake's, then each refresh's.</summary>
    public Discharges RemoteDischarges => _discharges.Remote;

    /// <summary>The peer's blessing names this side's authorizer accepted, with the peer's latest discharges.</summary>
    public IReadOnlyList<string> RemoteBlessingNames => _discharges.RemoteNames;

    /// <summary>The network address of the peer (or of the proxy in between), when the protocol has one.</summary>
    public EndPoint? RemoteAddress => _framed.RemoteAddress;

    /// <summary>A discharge refresh judged the peer again: its trust now ends at <paramref name="trustedUntil"/>.</summary>
    internal void RenewTrust(bool peerMayOpenFlows, DateTimeOffset? trustedUntil) => _trust.Renew(peerMayOpenFlows, trustedUntil);

    /// <summary>The peer sent fresh discharges (an Auth after the handshake).</summary>
    internal void OnPeerDischarges(Auth auth) => _discharges.OnPeerRefresh(auth);

    /// <summary>Queues a control message and wakes the writer; false when the connection is closing.</summary>
    internal bool TrySendControl(Message message)
    {
        lock (_queue.Lock)
        {
            if (_queue.IsClosingLocked)
            {
                return false;
            }

            _queue.EnqueueControlLocked(message);
        }

        _writer.Signal();
        return true;
    }
}
