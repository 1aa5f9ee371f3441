using System.Diagnostics.Metrics;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using FlowOrleans.Grains.Security;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// Gives the silo's <see cref="FlowManagerOptions"/> what only the host has and configuration cannot say: the silo's
/// principal and acceptor authorizer (<c>FlowOrleans:Trust</c>), its logger and meter factories and its clock. It fills only what nothing configured before it, and
/// configuration binds and <c>Configure</c> calls registered after it win.
/// </summary>
internal sealed class FlowManagerOptionsSetup(
    SiloPrincipal principal,
    SiloAuthorizers authorizers,
    ILoggerFactory loggerFactory,
    IMeterFactory meterFactory,
    TimeProvider time) : IConfigureOptions<FlowManagerOptions>
{
    public void Configure(FlowManagerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Principal ??= principal.Principal;
        options.AcceptorAuthorizer ??= authorizers.Acceptor;
        options.MeterFactory ??= meterFactory;
        if (ReferenceEquals(options.LoggerFactory, NullLoggerFactory.Instance))
        {
            options.LoggerFactory = loggerFactory;
        }

        // The silo's clock is the manager's unless a setting already chose one (the manager's or its connections').
        if (ReferenceEquals(options.TimeProvider, TimeProvider.System) && ReferenceEquals(options.Connection.TimeProvider, TimeProvider.System))
        {
            options.TimeProvider = time;
        }
    }
}
