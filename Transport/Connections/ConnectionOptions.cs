using FlowOrleans.Transport.Records;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// Tuning and policy of one connection: handshake, flow control, health checks. Defaults suit a LAN or loopback;
/// <see cref="Validate"/> rejects combinations that could not keep the memory promise.
/// </summary>
public sealed class ConnectionOptions
{
    /// <summary>Lowest protocol version this side speaks. Default 1.</summary>
    public ushort MinVersion { get; set; } = ProtocolVersions.Min;

    /// <summary>Highest protocol version this side speaks. Default 1.</summary>
    public ushort MaxVersion { get; set; } = ProtocolVersions.Max;

    /// <summary>Record ciphers this side accepts, most preferred first. Default AES-256-GCM, then ChaCha20-Poly1305.</summary>
    public IReadOnlyList<CipherSuite> Ciphers { get; set; } = [CipherSuite.Aes256Gcm, CipherSuite.ChaCha20Poly1305];

    /// <summary>A handshake that has not finished by then is dropped. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A connection that hears nothing from its peer for this long is closed with <see cref="FlowErrorCode.Network"/>. Default 30 s.</summary>
    public TimeSpan ChannelTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An idle connection sends a health check after this much silence; RTT comes from the answers.
    /// Default: a third of <see cref="ChannelTimeout"/>.
    /// </summary>
    public TimeSpan? HealthCheckInterval { get; set; }

    /// <summary>Largest data chunk one flow sends before the writer turns to the next flow. Default 64 KiB.</summary>
    public int Mtu { get; set; } = 64 * 1024;

    /// <summary>Receive window a new flow starts with. Default 256 KiB.</summary>
    public int InitialFlowWindow { get; set; } = 256 * 1024;

    /// <summary>Smallest receive window a flow is given, whatever the budget. Default 16 KiB.</summary>
    public int MinFlowWindow { get; set; } = 16 * 1024;

    /// <summary>
    /// Auto-tuning never grows a flow's receive window past this. Default 1 MiB: enough for loopback and LAN bulk
    /// rates, while a bigger window mostly queues more bytes ahead of other flows' small messages (hol-pingpong in
    /// docs/benchmarks.md).
    /// </summary>
    public int MaxFlowWindow { get; set; } = 1024 * 1024;

    /// <summary>
    /// The largest receive window any flow keeps while another flow of the connection carries small messages (under
    /// 16 KiB per 5 ms, read as they arrive). Every byte of a bulk flow's window can sit in the socket buffers ahead of
    /// those messages, so this trades bulk throughput beside them for their latency (hol-pingpong in docs/benchmarks.md).
    /// Chosen on loopback: on a path with a longer round trip it limits bulk beside messages to this much per round
    /// trip, so raise it there. Null keeps windows as large as throughput alone asks. Default 64 KiB.
    /// </summary>
    public int? MessageTrafficWindow { get; set; } = 64 * 1024;

    /// <summary>
    /// Bytes the peer may send beyond its flows' own credit, across the whole connection: on flows it opened before this
    /// side acknowledged them, and whole unfragmented messages overdrawing a flow's credit. At least 64 KiB (one
    /// message). Default 256 KiB.
    /// </summary>
    public int SharedCredit { get; set; } = 256 * 1024;

    /// <summary>Most flows open at once on the connection, counting both sides' flows. Default 1024.</summary>
    public int MaxConcurrentFlows { get; set; } = 1024;

    /// <summary>
    /// Upper bound of receive buffering on the connection: the sum of every flow's window plus the shared credit, which
    /// bounds the payload bytes it buffers exactly. Windows grow only inside it. Default 64 MiB.
    /// </summary>
    public long ReceiveBudget { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Most bytes of control messages (answers to the peer's health checks and lame duck notices, refusals of its flows,
    /// resets, credit) that may wait for a peer that does not read them; a peer that lets more pile up is disconnected
    /// with <see cref="FlowErrorCode.BadArg"/>. At least 128 bytes per flow of <see cref="MaxConcurrentFlows"/>.
    /// Default 256 KiB.
    /// </summary>
    public long ControlBudget { get; set; } = 256 * 1024;

    /// <summary>
    /// The connection's clock: handshake timeout, health checks, flow deadlines, window tuning, idleness. Default
    /// <see cref="TimeProvider.System"/>. A connection made by a <see cref="Manager.FlowManager"/> (or a proxy) runs on
    /// the manager's one clock instead, <see cref="Manager.FlowManagerOptions.TimeProvider"/>; that is this one when
    /// the manager's is left at its default, and the two may not name different clocks.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>A copy with another channel timeout (a dial's own), keeping every other setting.</summary>
    internal ConnectionOptions With(TimeSpan channelTimeout)
    {
        var copy = (ConnectionOptions)MemberwiseClone();
        copy.ChannelTimeout = channelTimeout;
        if (HealthCheckInterval is { } interval && interval >= channelTimeout)
        {
            copy.HealthCheckInterval = null;
        }

        return copy;
    }

    /// <summary>A copy running on another clock, keeping every other setting.</summary>
    internal ConnectionOptions With(TimeProvider timeProvider)
    {
        var copy = (ConnectionOptions)MemberwiseClone();
        copy.TimeProvider = timeProvider;
        return copy;
    }

    internal TimeSpan EffectiveHealthCheckInterval => HealthCheckInterval ?? ChannelTimeout / 3;

    /// <summary>
    /// The one clock of an owner of connections (a manager, a proxy) whose own clock setting is <paramref name="owner"/>:
    /// that one when set, else this one; null when both are set to different clocks.
    /// </summary>
    internal TimeProvider? ClockOf(TimeProvider owner) =>
        owner == TimeProvider.System ? TimeProvider
        : TimeProvider == TimeProvider.System || TimeProvider == owner ? owner
        : null;

    /// <summary>Throws <see cref="FlowException"/> with <see cref="FlowErrorCode.BadArg"/> naming the first bad setting.</summary>
    public void Validate()
    {
        Check(MinVersion >= 1 && MinVersion <= MaxVersion, "MinVersion must be at least 1 and not above MaxVersion");
        Check(Ciphers is { Count: > 0 }, "Ciphers must name at least one cipher");
        Check(Ciphers.All(Enum.IsDefined), "Ciphers holds an unknown cipher");
        Check(HandshakeTimeout > TimeSpan.Zero, "HandshakeTimeout must be positive");
        Check(ChannelTimeout > TimeSpan.Zero, "ChannelTimeout must be positive");
        Check(EffectiveHealthCheckInterval > TimeSpan.Zero && EffectiveHealthCheckInterval < ChannelTimeout,
            "HealthCheckInterval must be positive and shorter than ChannelTimeout");
        Check(Mtu is >= 1024 and <= RecordLayout.MaxPayload, $"Mtu must be between 1024 and {RecordLayout.MaxPayload}");
        Check(MinFlowWindow >= 1, "MinFlowWindow must be positive");
        Check(InitialFlowWindow >= MinFlowWindow, "InitialFlowWindow must be at least MinFlowWindow");
        Check(MaxFlowWindow >= InitialFlowWindow, "MaxFlowWindow must be at least InitialFlowWindow");
        Check(MessageTrafficWindow is null || MessageTrafficWindow >= MinFlowWindow, "MessageTrafficWindow must be at least MinFlowWindow");
        Check(SharedCredit >= RecordLayout.MaxPayload, $"SharedCredit must be at least {RecordLayout.MaxPayload} (one whole message)");
        Check(MaxConcurrentFlows >= 1, "MaxConcurrentFlows must be positive");
        Check(ControlBudget >= MaxConcurrentFlows * 128L, "ControlBudget must be at least 128 bytes per flow of MaxConcurrentFlows");
        Check(ReceiveBudget >= (long)MaxConcurrentFlows * MinFlowWindow + SharedCredit,
            "ReceiveBudget must cover MaxConcurrentFlows * MinFlowWindow + SharedCredit");
        Check(TimeProvider is not null, "TimeProvider is required");
    }

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new FlowException(FlowErrorCode.BadArg, "Invalid ConnectionOptions: " + message + ".");
        }
    }
}
