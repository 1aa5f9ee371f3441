using FlowOrleans.Transport;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;

namespace FlowOrleans.Client;

/// <summary>
/// What callers see while the cluster fails over: a silo has died or was cut off, and until membership declares it dead
/// (seconds to tens of seconds) calls routed to it are rejected, or time out. Calls that only read, or that are idempotent, are retried through
/// that window within a bound; every other call fails at once with a <see cref="FlowException"/> of code
/// <see cref="FlowErrorCode.Network"/> that says so, since whether it took effect on the silo that died is unknown.
/// </summary>
internal static class ClusterFailover
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Whether <paramref name="error"/> is a call that met a silo that is gone, a connection to it that failed, or a call
    /// whose response never came (Orleans' <see cref="TimeoutException"/>): a silo cut off by the network neither
    /// answers nor refuses until membership declares it dead, so its calls end by the response timeout instead.
    /// </summary>
    public static bool IsFailover(Exception error) => error is OrleansMessageRejectionException or ConnectionFailedException or TimeoutException;

    /// <summary>Runs an idempotent <paramref name="call"/>, again after each failover error, until it succeeds or <paramref name="bound"/> has passed.</summary>
    public static async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, string what, TimeSpan bound, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var pause = FirstPause;
        while (true)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (IsFailover(e))
            {
                var elapsed = time.GetElapsedTime(started);
                if (elapsed + pause > bound)
                {
                    throw new FlowException(
                        FlowErrorCode.Network,
                        $"The cluster is failing over: {what} still met a silo that is gone after {elapsed.TotalSeconds:F0} s of retries ({e.Message}).",
                        e);
                }

                await Task.Delay(pause, time, cancellationToken).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
            }
        }
    }

    /// <summary>Runs a call that must not be repeated; a failover error becomes a <see cref="FlowException"/> that says what happened.</summary>
    public static async Task<T> OnceAsync<T>(Task<T> call, string what)
    {
        try
        {
            return await call.ConfigureAwait(false);
        }
        catch (Exception e) when (IsFailover(e))
        {
            throw new FlowException(
                FlowErrorCode.Network,
                $"The cluster is failing over: {what} met a silo that is gone, and may or may not have taken effect ({e.Message}).",
                e);
        }
    }

    /// <summary>
    /// Whether <paramref name="error"/>, from a call on an open flow, means the silo that held the flow is gone: a
    /// failover error, or an enumeration of the flow's bytes that the silo no longer knows (it restarted, and a flow
    /// lives only in the process that opened it).
    /// </summary>
    public static bool IsFlowLost(Exception error) => IsFailover(error) || error is EnumerationAbortedException;

    /// <summary>The error an open flow's call fails with once its silo is gone: the flow cannot come back.</summary>
    public static FlowException FlowLost(Exception error, string siloKey, string what) =>
        new(
            FlowErrorCode.Network,
            $"The flow is lost: silo {siloKey}, which held it, is gone or unreachable, and {what} cannot complete ({error.Message}).",
            error);
}
