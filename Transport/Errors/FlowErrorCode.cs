namespace FlowOrleans.Transport;

/// <summary>
/// The error identities every flow operation reports, mirroring Vanadium's <c>flow.Err*</c> IDs.
/// </summary>
public enum FlowErrorCode
{
    /// <summary>Authentication failed: bad signature, broken chain, failed handshake.</summary>
    Auth = 1,

    /// <summary>The peer authenticated but is not authorized or not trusted.</summary>
    NotTrusted,

    /// <summary>The network failed: a connection dropped, was corrupted or timed out.</summary>
    Network,

    /// <summary>A dial could not establish a connection.</summary>
    DialFailed,

    /// <summary>An address could not be resolved.</summary>
    ResolveFailed,

    /// <summary>A proxy refused or failed a request.</summary>
    Proxy,

    /// <summary>An argument or input (including bytes off the wire) was malformed.</summary>
    BadArg,

    /// <summary>The operation is not valid in the current state.</summary>
    BadState,

    /// <summary>The operation was aborted: the flow or connection closed, or the caller cancelled.</summary>
    Aborted,
}
