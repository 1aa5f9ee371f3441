using FlowOrleans.Transport.Endpoints;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Connections;

/// <summary>The connection's side of <see cref="PeerTrust"/>: refusing flows, and closing once the peer's blessings expire.</summary>
public sealed partial class ManagedConnection
{
    private readonly PeerTrust _trust;

    /// <summary>When the blessings the peer was accepted under stop holding; null when they never expire.</summary>
    internal DateTimeOffset? PeerTrustedUntil => _trust.NotAfter;

    /// <summary>Closes the connection with <see cref="FlowErrorCode.NotTrusted"/>: the peer's blessings expired.</summary>
    private void OnTrustExpired()
    {
        if (!_queue.IsClosing)
        {
            LogTrustExpired(_logger, RemoteEndpoint, _trust.NotAfter);
        }

        BeginClose(_trust.ExpiredError(), sendTearDown: true);
    }

    /// <summary>
    /// Whether a flow the peer opens now may be admitted: the acceptor authorizer's verdict, and the peer's blessings
    /// still holding. Past their expiry (a timer firing late) the connection starts closing here.
    /// </summary>
    private bool AdmitsFlowsFromPeer()
    {
        if (_trust.HasExpired)
        {
            OnTrustExpired();
            return false;
        }

        return _trust.PeerMayOpenFlows;
    }

    private void ThrowIfTrustExpired()
    {
        if (_trust.HasExpired)
        {
            OnTrustExpired();
            throw _trust.ExpiredError();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection to {Remote} closing: the blessings it was accepted under expired at {NotAfter}")]
    private static partial void LogTrustExpired(ILogger logger, Endpoint remote, DateTimeOffset? notAfter);
}
