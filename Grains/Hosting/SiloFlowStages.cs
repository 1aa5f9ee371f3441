namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// Where the parts of a silo's flow transport join the silo lifecycle. Stages start in ascending order and stop in
/// descending order, so each part starts after the parts it uses and stops before them: the transport listens first
/// and closes last, the flows it holds close before it, and the loops that feed those flows stop before them.
/// </summary>
internal static class SiloFlowStages
{
    /// <summary>
    /// <see cref="SiloTransport"/>: Active, because grains and streams work by then, so the first accepted flow can be
    /// announced; on shutdown the silo's Active stage stops first.
    /// </summary>
    public const int Transport = ServiceLifecycleStage.Active;

    /// <summary><see cref="HostedFlows"/>, <see cref="SiloPins"/>, <see cref="RoutingIdRegistrar"/>: state kept over the transport.</summary>
    public const int State = Transport + 1;

    /// <summary><see cref="AcceptAnnouncer"/>, <see cref="MembershipWatcher"/>: loops that add to that state.</summary>
    public const int Loops = State + 1;

    /// <summary>
    /// <see cref="PinHandover"/>: the last to start and so the first to stop, while grain calls still work and before
    /// the state it hands over is dropped.
    /// </summary>
    public const int Handover = Loops + 1;
}
