cmd_Release/bhyve-monitor := g++ -o Release/bhyve-monitor -pthread -rdynamic -m64  -Wl,--start-group ./Release/obj.target/bhyve-monitor/monitor/bhyve-monitor.o  -Wl,--end-group
