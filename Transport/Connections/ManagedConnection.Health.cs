namespace FlowOrleans.Transport.Connections;

/// <summary>The connection's side of <see cref="ConnectionHealth"/>: what its checks measured and the timeout they hold it to.</summary>
public sealed partial class ManagedConnection
{
    public TimeSpan Rtt => _health.Rtt;

    /// <summary>The smallest RTT measured while no data moved (zero before the first such answer): what window tuning goes by.</summary>
    internal TimeSpan MinRtt => _health.MinRtt;

    /// <summary>The channel timeout in force: the options', or the shortest an open flow of this side asked for.</summary>
    internal TimeSpan ChannelTimeout => _health.ChannelTimeout;
}
