using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Connections;

/// <summary>Who this side is and how it judges the peer, for one handshake.</summary>
internal sealed class HandshakeParameters
{
    public required Principal Principal { get; init; }
    public required IPeerAuthorizer Authorizer { get; init; }
    public required Endpoint LocalEndpoint { get; init; }

    /// <summary>The endpoint the dialer meant to reach; a non-null routing ID in it must match the peer's. Null when accepting.</summary>
    public Endpoint? RemoteEndpoint { get; init; }

    public required ConnectionOptions Options { get; init; }

    /// <summary>Test hook: a record counter limit, to exercise nonce exhaustion without 2^64 records.</summary>
    public ulong MaxRecords { get; init; } = ulong.MaxValue;
}
